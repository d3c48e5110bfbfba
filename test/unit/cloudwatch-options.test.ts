import { describe, expect, it } from 'vitest'
import { OptionsError, resolveOptions } from '../../src/index.js'

const postgres = { url: 'postgres://localhost/db' }
const resolve = (cloudwatch: unknown) => resolveOptions({ postgres, cloudwatch }).cloudwatch

describe('options.cloudwatch', () => {
  it('fills the documented defaults', () => {
    expect(resolve({ namespace: 'MyApp' })).toEqual({
      namespace: 'MyApp',
      region: undefined,
      endpoint: undefined,
      flushIntervalMs: 5000,
      storageResolution: 60,
      maxSeries: 5000,
      defaultDimensions: {},
      selfMetrics: true,
      requestTimeoutMs: 10_000,
    })
    expect(resolveOptions({ postgres }).cloudwatch).toBeUndefined()
  })

  it('names the option, the value and the fix', () => {
    expect(() => resolve({})).toThrow(/options\.cloudwatch\.namespace must be .* got undefined/)
    expect(() => resolve({ namespace: 'AWS/EC2' })).toThrow(/not starting with "AWS\/"/)
    expect(() => resolve({ namespace: 'A', storageResolution: 30 })).toThrow(/60 \(standard\) or 1 \(high resolution\), got 30/)
    expect(() => resolve({ namespace: 'A', flushIntervalMs: 0 })).toThrow(/flushIntervalMs must be an integer between 100/)
    expect(() => resolve({ namespace: 'A', maxseries: 10 })).toThrow(/Did you mean "maxSeries"/)
    expect(() => resolve({ namespace: 'A', endpoint: 'localhost:5000' })).toThrow(/http\(s\) URL/)
    expect(() => resolve({ namespace: 'A', defaultDimensions: { Env: 3 } })).toThrow(/defaultDimensions\.Env must be a string/)
    expect(() => resolve({ namespace: 'A', defaultDimensions: { ':x': 'y' } })).toThrow(OptionsError)
  })
})
