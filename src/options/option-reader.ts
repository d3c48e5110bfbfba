// Moved to sinks/shared/option-reader.ts (sinks/ import nothing from src/); kept so src/ callers need not change at once.
export * from '../../sinks/shared/option-reader.js'
