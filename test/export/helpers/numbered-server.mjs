// A real Node http server for the agent-level outage test: answers every request 200 with its own path, so a
// client knows which numbered request it completed. Usage: node numbered-server.mjs <port>
import http from 'node:http';

const port = Number(process.argv[2]);
const server = http.createServer((req, res) => {
  res.setHeader('Content-Type', 'text/plain');
  res.end(req.url ?? '/');
});
server.listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
