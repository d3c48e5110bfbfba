// Moved to sinks/shared/did-you-mean.ts (sinks/ import nothing from src/); kept so src/ callers need not change at once.
export * from '../../sinks/shared/did-you-mean.js'
