/**
 * Child process for the gateway benchmark: the real gateway in a process of its own (as it is
 * deployed), with one signed-in IoT platform admin. Sends {url, token, run} to the parent over IPC
 * and serves until the parent disconnects.
 */
import '../../../scripts/lib/test-env.js';
import { startLiveGateway } from '../../integration/gateway-support.js';

const gw = await startLiveGateway();
const admin = await gw.as('IoTPlatformMSP', 'admin');
// The client object holds the token privately; a probe call proves it works, then we hand out the URL.
const probe = await admin.call('GET', '/healthz');
if (probe.status !== 200) throw new Error(`gateway not healthy: ${probe.status}`);
process.send?.({ url: gw.url, token: admin.token, run: gw.run });
process.on('disconnect', () => {
  void gw.close().then(() => process.exit(0));
});
