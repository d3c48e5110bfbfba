// Moved to sinks/shared/settle-by.ts (sinks/ import nothing from src/); kept so src/ callers need not change at once.
export * from '../../sinks/shared/settle-by.js'
