import { runService } from '@switchyard/infra';
import { setupWebui, webuiConfigShape } from './webui-service.js';

// dockercoins' webui: /json as before, plus /api/stats (rate, shares, healthy instances) and a
// page charting hashes/s. Listens on 8000 unless PORT says otherwise.
await runService({
  name: 'webui',
  defaultPort: 8000,
  config: webuiConfigShape,
  setup: setupWebui,
});
