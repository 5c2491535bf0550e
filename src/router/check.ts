// `govern providers check`: each configured model asked for one small answer.
import type { ModelSettings } from './provider.js';

export interface ModelStatus { role: string; provider: string; model: string; ok: boolean; detail: string }

export async function checkModels(models: Record<string, ModelSettings | undefined>): Promise<ModelStatus[]> {
  const { createProvider } = await import('./providers/index.js');
  const rows: ModelStatus[] = [];
  for (const [role, settings] of Object.entries(models)) {
    if (!settings) continue;
    const row: ModelStatus = { role, provider: settings.provider, model: settings.model, ok: false, detail: '' };
    try {
      const r = await createProvider(settings).check();
      row.ok = r.ok;
      row.detail = r.detail;
    } catch (e) {
      row.detail = (e as Error).message;
    }
    rows.push(row);
  }
  return rows;
}
