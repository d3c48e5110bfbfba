// Moved to sinks/shared/problem-reporter.ts (sinks/ import nothing from src/); kept so src/ callers need not change at once.
export * from '../../sinks/shared/problem-reporter.js'
