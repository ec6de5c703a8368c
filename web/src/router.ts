/** Hash routing: `#/fleet`, `#/clusters/<id>`, `#/servers`, `#/servers/<name>`, `#/upload`, `#/sign-in`. */
import { useEffect, useState } from 'react';

export type Route =
  | { page: 'sign-in' }
  | { page: 'fleet' }
  | { page: 'cluster'; id: string }
  | { page: 'servers' }
  | { page: 'server'; name: string }
  | { page: 'upload' };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  switch (parts[0]) {
    case 'sign-in':
      return { page: 'sign-in' };
    case 'clusters':
      return parts[1] ? { page: 'cluster', id: parts[1] } : { page: 'fleet' };
    case 'servers':
      return parts[1] ? { page: 'server', name: parts[1] } : { page: 'servers' };
    case 'upload':
      return { page: 'upload' };
    default:
      return { page: 'fleet' };
  }
}

export const href = {
  fleet: () => '#/fleet',
  cluster: (id: string) => `#/clusters/${encodeURIComponent(id)}`,
  servers: () => '#/servers',
  server: (name: string) => `#/servers/${encodeURIComponent(name)}`,
  upload: () => '#/upload',
  signIn: () => '#/sign-in',
};

export function navigate(to: string): void {
  window.location.hash = to;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
