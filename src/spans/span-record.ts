// Moved to sinks/shared/span-record.ts (sinks/ import nothing from src/); kept so src/ callers need not change at once.
export * from '../../sinks/shared/span-record.js'
