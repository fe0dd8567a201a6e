/**
 * App registrations through the admin API (docs/operations/admin-api.md#app-registrations), dev mode only, behind the
 * admin guard: `PUT`/`GET /_presently/apps/{appId}`, `POST …/secrets` (a new secret, shown once),
 * `POST …/certificates` (a PEM certificate), `DELETE …/secrets/{keyId}` and `…/certificates/{keyId}`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { guardedScope, type GuardDeps } from '../admin/guard.ts';
import { readBody } from '../platform/json/body.ts';
import { isGuid, readString } from '../platform/json/validate.ts';
import type { Store } from '../store/types.ts';
import { badRequest, notFound } from '../http/errors.ts';
import { resource } from '../http/wire.ts';
import { newSecretText, storedCertificate, storedSecret } from './credentials.ts';
import { applyRegistrationInput, registrationJson } from './registrationInput.ts';
import { emptyRegistration, type Registration, type Registrations } from './registrations.ts';

export interface RegistrationRouteDeps extends GuardDeps {
  store: Store;
  registrations: Registrations;
}

function appIdOf(request: FastifyRequest): string {
  const appId = (request.params as { appId: string }).appId;
  if (!isGuid(appId)) throw badRequest(`Invalid application id '${appId.slice(0, 64)}': a GUID is expected.`);
  return appId.toLowerCase();
}

export function registrationRoutes(app: FastifyInstance, deps: RegistrationRouteDeps): void {
  const { store, registrations } = deps;
  const existing = async (request: FastifyRequest): Promise<Registration> => {
    const appId = appIdOf(request);
    const found = await registrations.get(appId);
    if (!found) throw notFound(`No app '${appId}'. Register it with PUT /_presently/apps/${appId}.`);
    return found;
  };
  const view = async (r: Registration) => registrationJson(r, (await store.getApp(r.appId))?.displayName ?? r.appId);

  guardedScope(app, deps, (scope) => {
    resource(scope, '/_presently/apps/:appId', {
      GET: async (request: FastifyRequest) => view(await existing(request)),
      PUT: async (request: FastifyRequest, reply: FastifyReply) => {
        const appId = appIdOf(request);
        const body = readBody(request.body, { allowed: ['displayName', 'redirectUris', 'roles', 'scopes'], whenAbsent: 'empty-object' });
        const before = await registrations.get(appId);
        const app = await store.getApp(appId);
        const displayName = readString(body, 'displayName', '') ?? app?.displayName ?? appId;
        const next = applyRegistrationInput(before ?? emptyRegistration(appId), body);
        await store.putApp({ id: appId, displayName });
        await registrations.put(next);
        return reply.code(app ? 200 : 201).send(await view(next));
      },
    });
    resource(scope, '/_presently/apps/:appId/secrets', {
      POST: async (request: FastifyRequest, reply: FastifyReply) => {
        const r = await existing(request);
        const body = readBody(request.body, { allowed: ['secretText'], whenAbsent: 'empty-object' });
        const secretText = readString(body, 'secretText', '') ?? newSecretText();
        const secret = storedSecret(secretText);
        await registrations.put({ ...r, secrets: [...r.secrets, secret] });
        return reply.code(201).send({ keyId: secret.keyId, hint: secret.hint, secretText });
      },
    });
    resource(scope, '/_presently/apps/:appId/certificates', {
      POST: async (request: FastifyRequest, reply: FastifyReply) => {
        const r = await existing(request);
        const body = readBody(request.body, { allowed: ['certificate'], whenAbsent: 'empty-object' });
        const cert = storedCertificate(readString(body, 'certificate', '', { required: true }));
        if (!r.certificates.some((c) => c.thumbprintSha256 === cert.thumbprintSha256)) await registrations.put({ ...r, certificates: [...r.certificates, cert] });
        const stored = (await registrations.get(r.appId))!.certificates.find((c) => c.thumbprintSha256 === cert.thumbprintSha256)!;
        return reply.code(201).send({ keyId: stored.keyId, thumbprint: stored.thumbprint, thumbprintSha256: stored.thumbprintSha256, endDateTime: stored.endDateTime });
      },
    });
    for (const kind of ['secrets', 'certificates'] as const) {
      resource(scope, `/_presently/apps/:appId/${kind}/:keyId`, {
        DELETE: async (request: FastifyRequest, reply: FastifyReply) => {
          const r = await existing(request);
          const keyId = (request.params as { keyId: string }).keyId.toLowerCase();
          const list: Array<{ keyId: string }> = r[kind];
          if (!list.some((c) => c.keyId === keyId)) throw notFound(`App '${r.appId}' has no ${kind === 'secrets' ? 'secret' : 'certificate'} '${keyId.slice(0, 64)}'.`);
          await registrations.put({ ...r, [kind]: list.filter((c) => c.keyId !== keyId) } as Registration);
          return reply.code(204).send();
        },
      });
    }
  });
}
