import { runService } from '@switchyard/infra';
import { socialConfig } from './config.js';
import { setupSocial } from './service.js';

await runService({ name: 'social', config: socialConfig, jsonLimit: '16kb', setup: setupSocial });
