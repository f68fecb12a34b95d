import { createTestDatabase, uniqueName } from '@citydeals/testkit';
import { runLoad } from '../processes.ts';
import type { BenchRow } from '../report.ts';
import {
  adminHeaders,
  type RunningService,
  removeNamespace,
  startService,
  stopService,
} from '../services.ts';
import { assertClean, DURATION_SECONDS } from './registration.scenario.ts';

/**
 * Deal-tracking has no row of its own in the issue but its peak RSS is one: a short read load on the deal
 * list (demo data seeded) so the figure is the service at work, not idle. Its row comes from main.ts.
 */
export async function dealTrackingRssScenario(): Promise<BenchRow[]> {
  const database = await createTestDatabase('cd_bench_dt');
  const ns = uniqueName('bdt');
  let service: RunningService | undefined;
  try {
    service = await startService('deal-tracking', {
      DATABASE_URL: database.url,
      EVENT_NAMESPACE: ns,
      SEED_DEMO_DATA: 'true',
    });
    const load = await runLoad({
      url: service.base,
      meetingIds: [],
      connections: 16,
      durationSeconds: Math.min(DURATION_SECONDS, 5),
      get: { path: '/deals', headers: adminHeaders() },
      label: 'deals',
    });
    assertClean('deal list', load);
    if (load.ok2xx === 0) throw new Error('deal list load got no answers');
    return [];
  } finally {
    await stopService(service, `GET /deals load`);
    await removeNamespace(ns).catch(() => {});
    await database.drop();
  }
}
