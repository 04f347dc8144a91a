// The admin's review of feedback. A visitor may label their own predictions anything, so a label the page
// stores is `pending` and is trained on (--include-feedback) only once an admin accepts it here: list the
// samples in a state, then accept or reject each. Same bearer token, lock-out and audit lines as the model
// admin routes (admin-guard.ts).
import { createHash } from 'node:crypto';
import { Elysia, t } from 'elysia';
import { type FeedbackSample, type FeedbackState, type Store } from '../adapters/store/store.ts';
import { imageBytes } from '../protocol/image.ts';
import { STRICT } from './api-routes.ts';
import type { Admission } from './admission.ts';
import { adminAccess, type AdminGuard } from './admin-guard.ts';
import { HttpError } from './errors.ts';

export interface FeedbackRoutesOptions {
  readonly store: Store;
  readonly admin: AdminGuard;
  readonly admission: Admission;
}

/** Samples a listing returns unless asked for fewer: a reviewer's page, ~1.5 KB each. */
export const REVIEW_PAGE = 100;
const MAX_REVIEW_PAGE = 1_000;

const State = t.Union(
  [t.Literal('pending'), t.Literal('accepted'), t.Literal('rejected')],
  { description: 'pending: not reviewed yet (a visitor’s label, never trained on); accepted: trained on with --include-feedback and exported; rejected: neither' },
);

const ReviewedSample = t.Object({
  id: t.String({ description: 'the sample’s id, named after its image' }),
  label: t.Integer({ description: 'the digit the visitor said it is' }),
  predicted: t.Integer({ description: 'the digit the model answered; -1 for imported samples' }),
  modelVersion: t.String(),
  createdAt: t.String(),
  session: t.Nullable(t.String({ description: 'a digest of the session that labelled it (never the session id): tells samples of one visitor apart; null for imported samples' })),
  state: State,
  image: t.String({ description: '784 grey levels 0..255, row by row, white digit on black, base64' }),
});

const Listing = t.Object({ state: State, samples: t.Array(ReviewedSample, { description: 'newest first; at most 64 of any one session' }) });

const ListQuery = t.Object(
  {
    state: t.Optional(State),
    limit: t.Optional(t.Integer({ minimum: 1, maximum: MAX_REVIEW_PAGE, description: `samples at most (default ${REVIEW_PAGE})` })),
  },
  STRICT,
);

const ReviewBody = t.Object(
  { label: t.Integer({ minimum: 0, maximum: 9, description: 'the label the reviewer saw: the review applies only while the sample still has it' }) },
  STRICT,
);

const Reviewed = t.Object({ id: t.String(), label: t.Integer(), state: State });

/** A session as a reviewer sees it: enough to group one visitor's samples, nothing to act as them with. */
export function sessionDigest(sessionId: string): string {
  return createHash('sha256').update(sessionId).digest('hex').slice(0, 16);
}

function forReview(sample: FeedbackSample) {
  const { id, label, predicted, modelVersion, createdAt, state } = sample;
  const image = Buffer.from(imageBytes(sample.pixels)).toString('base64');
  return { id, label, predicted, modelVersion, createdAt, session: sample.sessionId === undefined ? null : sessionDigest(sample.sessionId), state, image };
}

export function feedbackRoutes({ store, admin: guard, admission }: FeedbackRoutesOptions) {
  const { clientOf, admin } = adminAccess(guard, admission);
  const reviewRoute = (summary: string) => ({
    ...admin,
    // Read by the app's parser (app.ts); named here so that /docs says JSON, the one type taken.
    parse: 'json' as const,
    body: ReviewBody,
    response: Reviewed,
    detail: { summary, tags: ['feedback'] },
  });

  const review = async (id: string, label: number, state: Exclude<FeedbackState, 'pending'>, client: string) => {
    const sample = await store.reviewFeedback(id, label, state);
    if (!sample) throw new HttpError(404, 'unknown_feedback', 'no such feedback sample');
    // The visitor relabelled it after the reviewer looked: what they saw is not what would be trained on.
    if (sample.label !== label) throw new HttpError(409, 'label_changed', `the sample is labelled ${sample.label} now; review it again`);
    guard.record(state === 'accepted' ? 'feedback_accept' : 'feedback_reject', client, id, { feedback: id, label });
    return { id, label, state };
  };

  return new Elysia({ name: 'stratus-feedback', normalize: false })
    .get(
      '/api/feedback',
      async ({ query }) => {
        const state = query.state ?? 'pending';
        const samples = await store.listFeedback(query.limit ?? REVIEW_PAGE, { state });
        return { state, samples: samples.map(forReview) };
      },
      {
        ...admin,
        query: ListQuery,
        response: Listing,
        detail: { summary: 'Feedback samples in one state (default pending), newest first, to review (admin)', tags: ['feedback'] },
      },
    )
    .post(
      '/api/feedback/:id/accept',
      ({ params, body, request, server }) => review(params.id, body.label, 'accepted', clientOf(request, server)),
      reviewRoute('Accept a sample’s label: --include-feedback trains on it and the export writes it (admin)'),
    )
    .post(
      '/api/feedback/:id/reject',
      ({ params, body, request, server }) => review(params.id, body.label, 'rejected', clientOf(request, server)),
      reviewRoute('Reject a sample’s label: never trained on; the first to go when the feedback is trimmed (admin)'),
    );
}
