// The pages' one poller: fetch JSON from `url` and hand it to `render`, one request at a time (a
// tick that comes while the previous poll is still waiting is skipped, so a slow webui gets one
// request from a page, not one more every second); a failure is shown in `status`.
/* exported jsonPoller */
function jsonPoller(url, render, { timeoutMs, status }) {
  let polling = false;
  return async function poll() {
    if (polling) return;
    polling = true;
    try {
      const response = await fetch(url, { cache: 'no-store', signal: AbortSignal.timeout(timeoutMs) });
      if (!response.ok) throw new Error(`webui answered ${response.status}`);
      render(await response.json());
    } catch (error) {
      const reason = error.name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : error.message;
      status().textContent = `cannot reach the webui: ${reason}`;
    } finally {
      polling = false;
    }
  };
}
