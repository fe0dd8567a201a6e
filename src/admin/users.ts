/**
 * The users of a tenant: `GET` (in pages of up to USERS_PAGE, id order, `@odata.nextLink`) and `POST /_presently/tenants/{tid}/users`, `POST …/users/bulk` (many at once),
 * `DELETE …/users/{id}`. Behind the admin guard (./guard.ts). The rules are the directory's (src/directory/directory.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Directory } from '../directory/directory.ts';
import { isGuid } from '../platform/json/validate.ts';
import type { Store, User } from '../store/types.ts';
import { badRequest, notFound } from '../http/errors.ts';
import { resource } from '../http/wire.ts';

/** The bulk route's body limit: MAX_BULK_USERS users of about 150 bytes each, with room to spare. */
export const BULK_BODY_LIMIT = 4 * 1024 * 1024;

export interface UserRouteDeps {
  store: Pick<Store, 'listUserPage'>;
  directory: Directory;
}

/** The tenant id in the path, lower-cased; a 400 unless it is a GUID. */
export function tenantOf(request: FastifyRequest): string {
  const tid = (request.params as { tid: string }).tid;
  if (!isGuid(tid)) throw badRequest(`Invalid tenant id '${tid.slice(0, 64)}': a GUID is expected.`);
  return tid.toLowerCase();
}

export function userRoutes(app: FastifyInstance, deps: UserRouteDeps): void {
  resource(app, '/_presently/tenants/:tid/users', {
    GET: async function listUsers(request: FastifyRequest) {
      const tid = tenantOf(request);
      const { top, after } = pageOf(request.query as Record<string, unknown>);
      // One more than a page: whether there is a next one.
      const users = await deps.store.listUserPage(tid, after, top + 1);
      const page = users.slice(0, top);
      const next = users.length > top
        ? { '@odata.nextLink': `/_presently/tenants/${tid}/users?${new URLSearchParams({ $top: String(top), $skiptoken: page.at(-1)!.id })}` }
        : {};
      return { value: page.map(userJson), ...next };
    },
    POST: async function putUser(request: FastifyRequest, reply: FastifyReply) {
      const { user, created } = await deps.directory.addUser(tenantOf(request), request.body);
      return reply.code(created ? 201 : 200).send(userJson(user));
    },
  });
  // Many users at once (the bench's million): its own body limit, far over a Graph request's.
  app.route({
    method: 'POST', url: '/_presently/tenants/:tid/users/bulk', bodyLimit: BULK_BODY_LIMIT,
    handler: async function putUsers(request: FastifyRequest) {
      const { users, created } = await deps.directory.addUsers(tenantOf(request), request.body);
      return { created, updated: users.length - created, ids: users.map((u) => u.id) };
    },
  });
  resource(app, '/_presently/tenants/:tid/users/:id', {
    DELETE: async function deleteUser(request: FastifyRequest, reply: FastifyReply) {
      const tid = tenantOf(request);
      const id = (request.params as { id: string }).id.toLowerCase();
      if (!(await deps.directory.deleteUser(tid, id))) throw notFound(`No user '${id.slice(0, 64)}' in tenant '${tid}'.`);
      return reply.code(204).send();
    },
  });
}

/** The most users one page of the list holds, and the default. */
export const USERS_PAGE = 10_000;

/** `$top` (1 … USERS_PAGE) and `$skiptoken` (the last user id of the page before) of the list; a 400 naming a bad one. */
function pageOf(query: Record<string, unknown>): { top: number; after: string | null } {
  const topText = query.$top;
  const top = topText === undefined ? USERS_PAGE : Number(topText);
  if (typeof topText === 'object' || !Number.isInteger(top) || top < 1 || top > USERS_PAGE) {
    throw badRequest(`Invalid $top '${String(topText).slice(0, 32)}': a whole number from 1 to ${USERS_PAGE} is expected.`);
  }
  const token = query.$skiptoken;
  if (token !== undefined && (typeof token !== 'string' || !isGuid(token))) {
    throw badRequest(`Invalid $skiptoken '${String(token).slice(0, 64)}': use the @odata.nextLink of the page before.`);
  }
  return { top, after: token === undefined ? null : token.toLowerCase() };
}

function userJson(u: User) {
  return { id: u.id, tenantId: u.tenantId, displayName: u.displayName, userPrincipalName: u.userPrincipalName };
}
