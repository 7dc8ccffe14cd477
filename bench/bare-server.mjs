// The limit: a bare node:http server that reads and parses the request body like the service does,
// then answers a fixed JSON of the same shape and size (one fixed prediction per instance). Nothing
// is validated, scored, logged or measured. Plain JavaScript, so Node starts it without type
// stripping: its cold start is Node's own. Used only by bench/bench.ts.
import { createServer } from 'node:http';
import { getFixedAnswer } from './fixed-answer.mjs';

createServer((request, response) => {
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    let count;
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      count = Array.isArray(body.instances) ? body.instances.length : 0;
    } catch {
      response.writeHead(400).end();
      return;
    }
    const answer = getFixedAnswer(count).text;
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) });
    response.end(answer);
  });
}).listen(Number(process.env.PORT ?? 8080), '127.0.0.1');
