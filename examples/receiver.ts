/**
 * A minimal webhook receiver for change notifications (Presently's or Microsoft Graph's): plain node:http, no
 * dependencies. It answers the validation handshake and prints one JSON line per notification item.
 *
 *   node --import tsx examples/receiver.ts [port]      (default: $PORT, else 3000)
 */
import http from 'node:http';

interface Item {
  subscriptionId: string;
  clientState: string | null;
  resource?: string;
  /** Which presence changed: `{"@odata.id", "@odata.type", "id"}` (the user's id); not how it changed. */
  resourceData?: { id?: string };
  lifecycleEvent?: string;
}

const port = Number(process.argv[2] ?? process.env.PORT ?? 3000);

http.createServer((req, res) => {
  // The validation handshake: 200, text/plain, the decoded token as the body (searchParams decodes it).
  const token = new URL(req.url ?? '/', 'http://receiver').searchParams.get('validationToken');
  if (token !== null) return void res.writeHead(200, { 'Content-Type': 'text/plain' }).end(token);

  let body = '';
  req.setEncoding('utf8').on('data', (chunk: string) => { body += chunk; }).on('end', () => {
    let items: Item[] = [];
    try { items = (JSON.parse(body) as { value?: Item[] }).value ?? []; } catch { /* not JSON: nothing to print */ }
    for (const { subscriptionId, resource, resourceData, clientState, lifecycleEvent } of items) {
      // To learn how the presence changed, GET it (users/{id}/presence): its sequenceNumber orders what you read.
      console.log(JSON.stringify({ subscriptionId, resource, userId: resourceData?.id, clientState, lifecycleEvent }));
    }
    res.writeHead(202).end(); // answer within 3 s, or the items are sent again
  });
}).listen(port, '127.0.0.1', () => console.log(`Receiving notifications on http://127.0.0.1:${port}/`));
