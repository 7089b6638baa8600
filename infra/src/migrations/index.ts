export { ensureDatabase, runMigrations, MigrationFailed, type MigrationLogger, type MigrationsResult, type RunMigrationsOptions } from './runner.js';
