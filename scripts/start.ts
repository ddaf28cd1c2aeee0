/**
 * `npm start`: the whole system on this machine — Fabric binaries (built on first run), CAs,
 * orderers, peers, channel, chaincode as a service — then prints what runs where. A second start
 * reuses the ledger; `npm stop` stops everything.
 */
import { endpoint, loadTopology, ordererOrg, peerOrgs } from '../network/topology.js';
import { log, main } from './lib/log.js';
import { DATA, paths } from './lib/paths.js';
import { bootstrapFile, startGateway } from './gateway.js';
import { deploy, networkUp } from './network/lifecycle.js';

main(async () => {
  const started = Date.now();
  const t = loadTopology();
  await networkUp(t);
  await deploy(t);
  log.step('starting the gateway');
  const gateway = await startGateway();
  const took = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`
The system is up (${took}s). What runs where:
  gateway            ${gateway.url}   API docs ${gateway.url}/docs   OpenAPI ${gateway.url}/openapi.json
  channel            ${t.channel}, chaincode ${t.chaincode.name} (policy ${t.chaincode.signaturePolicy})
  orderers (Raft)    ${ordererOrg(t)
    .orderers.map((o) => `${o.name} ${endpoint(o)} admin :${o.adminPort}`)
    .join('\n                     ')}
  peers              ${peerOrgs(t)
    .flatMap((org) =>
      org.peers.map((p) => `${org.mspId} ${endpoint(p)} (gateway service) ops https://${p.host}:${p.operationsPort}/healthz`),
    )
    .join('\n                     ')}
  CAs                ${t.orgs.map((o) => `${o.mspId} https://${endpoint(o.ca)}`).join('\n                     ')}
  chaincode servers  ${peerOrgs(t)
    .map((o) => `${o.mspId} ${endpoint(o.peers[0].chaincodeServer)}`)
    .join('\n                     ')}
  data and logs      ${DATA} (logs in ${paths.logs})
  org admins         ${DATA}/crypto/<org>/identities/orgadmin/msp

  npm run network:status   health, block heights, committed chaincode
  npm stop                 stop everything (ledger kept)`);
  if (gateway.newCredentials) {
    console.log(`\nFirst start: one bootstrap administrator per organisation (also in ${bootstrapFile}, mode 600).
Add the TOTP URI to an authenticator app, then POST ${gateway.url}/auth/login {"username","password","totp"}:
${gateway.newCredentials}`);
  } else {
    console.log(`\nBootstrap administrators' sign-in details: ${bootstrapFile}`);
  }
  log.ok('ready');
});
