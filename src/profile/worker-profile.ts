// Moved to sinks/shared/worker-profile.ts (sinks/ import nothing from src/); kept so src/ callers need not change at once.
export * from '../../sinks/shared/worker-profile.js'
