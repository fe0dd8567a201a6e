/**
 * The state controls under /_presently (docs/operations/state.md), behind the admin guard (registered in its scope by
 * ../routes.ts): `POST /_presently/reset`, `GET /_presently/export`, `POST /_presently/import`, and the tenants API
 * (`GET`/`POST /_presently/tenants`, `DELETE /_presently/tenants/{tid}`).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { guid } from '../../directory/directory.ts';
import { presentBody } from '../../platform/json/body.ts';
import { readObject, readString } from '../../platform/json/validate.ts';
import { notFound } from '../../http/errors.ts';
import { resource } from '../../http/wire.ts';
import { tenantOf } from '../users.ts';
import { parseStateDocument } from './document.ts';
import type { StateService } from './service.ts';

/** An import document may be far larger than a Graph request body. */
export const IMPORT_BODY_LIMIT = 64 * 1024 * 1024;

export function stateRoutes(app: FastifyInstance, state: StateService): void {
  resource(app, '/_presently/reset', {
    POST: async function reset() {
      return { status: 'reset', ...(await state.reset()) };
    },
  });
  resource(app, '/_presently/export', {
    GET: async function exportState(_request: FastifyRequest, reply: FastifyReply) {
      return reply.header('content-disposition', 'attachment; filename="presently-state.json"').send(await state.exportState());
    },
  });
  app.route({
    method: 'POST', url: '/_presently/import', bodyLimit: IMPORT_BODY_LIMIT,
    handler: async function importState(request: FastifyRequest) {
      // Checked whole before anything changes: a 400 names the first wrong property and leaves the state as it was.
      const parsed = parseStateDocument(presentBody(request.body, 'refuse'));
      return { status: 'imported', ...(await state.importState(parsed)) };
    },
  });
  tenantRoutes(app, state);
}

function tenantRoutes(app: FastifyInstance, state: StateService): void {
  resource(app, '/_presently/tenants', {
    GET: async function listTenants() {
      return { value: await state.listTenants() };
    },
    POST: async function putTenant(request: FastifyRequest, reply: FastifyReply) {
      const body = readObject(presentBody(request.body, 'empty-object'), '', ['id', 'displayName']);
      const id = guid(readString(body, 'id', '') ?? randomUUID(), 'id');
      const tenant = { id, displayName: readString(body, 'displayName', '') ?? id };
      return reply.code((await state.putTenant(tenant)) ? 201 : 200).send(tenant);
    },
  });
  resource(app, '/_presently/tenants/:tid', {
    DELETE: async function deleteTenant(request: FastifyRequest, reply: FastifyReply) {
      const tid = tenantOf(request);
      if (!(await state.deleteTenant(tid))) throw notFound(`No tenant '${tid}'.`);
      return reply.code(204).send();
    },
  });
}
