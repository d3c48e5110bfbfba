// Moved to sinks/shared/metric.ts (sinks/ import nothing from src/); kept so src/ callers need not change at once.
export * from '../../sinks/shared/metric.js'
