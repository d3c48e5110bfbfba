// Moved to sinks/shared/ids.ts (sinks/ import nothing from src/); kept so src/ callers need not change at once.
export * from '../../sinks/shared/ids.js'
