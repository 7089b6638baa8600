import { runService } from '@switchyard/infra';
import { authConfig } from './config.js';
import { setupAuth } from './service.js';

await runService({ name: 'auth', config: authConfig, jsonLimit: '16kb', setup: setupAuth });
