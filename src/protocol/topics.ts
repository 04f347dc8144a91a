// The topics the actors meet on, and the consumer groups that read them. A group shares a topic's
// messages among its members; each group sees every message, so an actor that must hear everything
// (a gateway hearing model announcements, a consumer hearing model updates) joins a group of its own.

export const TOPIC = Object.freeze({
  /** Batches of prediction requests, keyed by their first request's id; answered through request/reply. */
  predictions: 'stratus.predictions',
  /** Every consumer repeats which model version it serves. */
  modelAnnouncements: 'stratus.models.announced',
  /** A new serving version was chosen (publish, promote, rollback): every consumer loads it. */
  modelUpdated: 'stratus.models.updated',
});

export const GROUP = Object.freeze({
  /** The consumers share the prediction requests. */
  consumers: 'stratus-consumers',
  gatewayAnnouncements: (instance: string) => `stratus-gateway-${instance}`,
  consumerModelUpdates: (instance: string) => `stratus-consumer-models-${instance}`,
});
