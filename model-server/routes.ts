// Every route the model server answers, in one table: the router matches only these (anything else is a 404), and
// docs/model-server.md and test/unit/model-server/routes.test.ts list the same. `access` says who may call it:
// the inference and health routes are the data plane (the pod's Service); the one admin route, the variant switch,
// needs the bearer token and is disabled without one. The operator never calls it: it switches variants through
// the ConfigMap key mounted at activeVariantFile (ADR 0300), so a pod it renders has no admin token at all.
import { HttpError } from './http-error.ts';

export type RouteId = 'live' | 'ready' | 'server' | 'metrics' | 'admin-variant' | 'model' | 'model-ready' | 'infer';

export interface Route {
  id: RouteId;
  /** As documented: `/v2/models/{model}[/versions/{version}]/infer`. */
  path: string;
  methods: readonly string[];
  access: 'public' | 'admin-token';
  pattern: RegExp;
  what: string;
}

const MODEL = '^/v2/models/([^/]+)(?:/versions/([^/]+))?';
const READ = ['GET', 'HEAD'] as const;

export const ROUTES: readonly Route[] = [
  {
    id: 'live',
    path: '/v2/health/live',
    methods: READ,
    access: 'public',
    pattern: /^\/v2\/health\/live$/,
    what: 'liveness',
  },
  {
    id: 'ready',
    path: '/v2/health/ready',
    methods: READ,
    access: 'public',
    pattern: /^\/v2\/health\/ready$/,
    what: 'readiness',
  },
  { id: 'server', path: '/v2', methods: READ, access: 'public', pattern: /^\/v2$/, what: 'server metadata' },
  {
    id: 'metrics',
    path: '/metrics',
    methods: ['GET'],
    access: 'public',
    pattern: /^\/metrics$/,
    what: 'Prometheus metrics',
  },
  {
    id: 'admin-variant',
    path: '/admin/variant',
    methods: ['GET', 'POST'],
    access: 'admin-token',
    pattern: /^\/admin\/variant$/,
    what: 'read or switch the active variant',
  },
  {
    id: 'model',
    path: '/v2/models/{model}[/versions/{version}]',
    methods: READ,
    access: 'public',
    pattern: new RegExp(`${MODEL}$`),
    what: 'model metadata',
  },
  {
    id: 'model-ready',
    path: '/v2/models/{model}[/versions/{version}]/ready',
    methods: READ,
    access: 'public',
    pattern: new RegExp(`${MODEL}/ready$`),
    what: 'model readiness',
  },
  {
    id: 'infer',
    path: '/v2/models/{model}[/versions/{version}]/infer',
    methods: ['POST'],
    access: 'public',
    pattern: new RegExp(`${MODEL}/infer$`),
    what: 'inference',
  },
];

export interface MatchedRoute {
  route: Route;
  /** Captured path parts (model name and version for the /v2/models routes), still percent-encoded. */
  params: string[];
}

/** The route for a path and method; 404 for a path no route has, 405 (with Allow) for a method it does not take. */
export function matchRoute(path: string, method: string): MatchedRoute {
  for (const route of ROUTES) {
    const m = route.pattern.exec(path);
    if (!m) continue;
    if (!route.methods.includes(method)) {
      const allow = route.methods.filter((x) => x !== 'HEAD').join(', ');
      throw new HttpError(405, 'method_not_allowed', `method not allowed (allowed: ${allow})`, { allow });
    }
    // An optional group that did not take part is undefined (the DOM typing says string).
    const groups = m.slice(1) as Array<string | undefined>;
    return { route, params: groups.filter((x): x is string => x !== undefined) };
  }
  throw new HttpError(404, 'not_found', `no route for ${method} ${path}`);
}
