import { spanProof } from '../../sinks/shared/record-proof.js'

/** A span record as the tracer logs it: the fields plus the proof the worker checks (sinks/shared/record-proof.ts). */
export function signedSpan<T extends Record<string, unknown>>(fields: T): T & { sluice_proof: string } {
  return { ...fields, sluice_proof: spanProof(fields) }
}
