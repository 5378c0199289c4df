import { collectDefaultMetrics, Gauge, Registry } from "prom-client";
import { LabelledCounter } from "@mimascota/shared/metrics/labelled-counter";

const EVENT_RESULTS = ["applied", "duplicate", "parked"] as const;
export type EventResult = (typeof EVENT_RESULTS)[number];

const PHOTO_RESULTS = ["stored", "rejected", "too_large"] as const;
export type PhotoResult = (typeof PHOTO_RESULTS)[number];

/** What the metrics read at scrape time (the composition root passes what it runs). */
export interface ProfileMetricSources {
  /** Messages behind the consumer group's position, by topic and partition (the consumer's last reading). */
  consumerLag?: () => ReadonlyMap<string, readonly number[]>;
  /** Stored objects waiting to be deleted (a store outage makes this grow). */
  pendingObjectDeletions?: () => Promise<number>;
}

/** One registry per app instance, fixed label values: bounded cardinality, series present from the start. */
export class ProfileMetrics {
  readonly registry = new Registry();
  readonly events: LabelledCounter<EventResult>;
  readonly photos: LabelledCounter<PhotoResult>;

  constructor(sources: ProfileMetricSources = {}, options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.events = new LabelledCounter({
      name: "profiles_events_total",
      help: "Account events consumed, by result (a duplicate is a redelivery; parked ones are poison)",
      label: "result",
      values: EVENT_RESULTS,
      registers,
    });
    this.photos = new LabelledCounter({
      name: "profiles_photo_uploads_total",
      help: "Photo uploads by result",
      label: "result",
      values: PHOTO_RESULTS,
      registers,
    });
    const { consumerLag, pendingObjectDeletions } = sources;
    if (consumerLag) {
      new Gauge({
        name: "profiles_consumer_lag",
        help: "Events on the broker the profile consumer group has not applied yet, by topic and partition",
        labelNames: ["topic", "partition"],
        registers,
        collect() {
          this.reset();
          for (const [topic, lags] of consumerLag()) {
            lags.forEach((lag, partition) => this.set({ topic, partition: String(partition) }, lag));
          }
        },
      });
    }
    if (pendingObjectDeletions) {
      new Gauge({
        name: "profiles_object_deletions_pending",
        help: "Replaced or orphaned photos not deleted from the store yet (retried by the sweeper)",
        registers,
        async collect() {
          this.set(await pendingObjectDeletions());
        },
      });
    }
  }
}
