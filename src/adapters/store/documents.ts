// Feedback samples as both stores keep them (PouchDB locally, CouchDB in cluster mode: one layout, so
// data can replicate between them): one document per sample, `_id` the sample id.
import type { FeedbackSample } from './store.ts';

export type FeedbackDoc = Omit<FeedbackSample, 'id'> & { _id: string; _rev?: string };

export function feedbackDoc(sample: FeedbackSample): FeedbackDoc {
  const { id, ...rest } = sample;
  return { _id: id, ...rest };
}

/** The samples of an `_all_docs` page, newest first, at most `limit`. People label a few samples by
 * hand, not millions: reading them all and sorting is cheaper than keeping an index. */
export function newestFeedback(docs: readonly (FeedbackDoc | undefined)[], limit: number): FeedbackSample[] {
  return docs
    .flatMap((doc) => {
      if (!doc) return [];
      const { _id, _rev, ...rest } = doc;
      return [{ id: _id, ...rest }];
    })
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
    .slice(0, limit);
}
