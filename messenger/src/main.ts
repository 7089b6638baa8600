import { runService } from '@switchyard/infra';
import { SEND_MESSAGE_BODY_LIMIT_KB } from './api.js';
import { messengerConfig } from './config.js';
import { setupMessenger } from './service.js';

// The largest body is a send of 4000 characters, escaped (see SEND_MESSAGE_BODY_LIMIT_KB).
await runService({ name: 'messenger', config: messengerConfig, jsonLimit: `${SEND_MESSAGE_BODY_LIMIT_KB}kb`, setup: setupMessenger });
