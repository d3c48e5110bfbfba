// Moved to sinks/shared/log-record.ts (sinks/ import nothing from src/); kept so src/ callers need not change at once.
export * from '../../sinks/shared/log-record.js'
