import { readFileSync } from "node:fs";
import { rootCertificates, type ConnectionOptions } from "node:tls";
import { ConfigError } from "../config.ts";

/** The KAFKA_* settings that say how to reach the brokers securely. */
export interface KafkaSecuritySettings {
  NODE_ENV: "development" | "production" | "test";
  KAFKA_TLS: boolean;
  KAFKA_TLS_CA_FILE?: string | undefined;
  KAFKA_SASL_MECHANISM?: "plain" | "scram-sha-256" | "scram-sha-512" | undefined;
  KAFKA_SASL_USERNAME?: string | undefined;
  KAFKA_SASL_PASSWORD?: string | undefined;
}

/** What the Kafka client is given: TLS options and SASL credentials, each only when configured. */
export interface KafkaSecurity {
  tls?: ConnectionOptions;
  sasl?: {
    mechanism: "PLAIN" | "SCRAM-SHA-256" | "SCRAM-SHA-512";
    username: string;
    password: string;
  };
}

/**
 * TLS (the system's CAs, plus KAFKA_TLS_CA_FILE's) and SASL (PLAIN or SCRAM, as managed Kafka services ask)
 * from the settings, or a ConfigError naming what is wrong: a mechanism without both credentials, a CA file
 * without TLS or unreadable, or PLAIN without TLS in production (it sends the password as it is). Messages
 * never include the password.
 */
export function kafkaSecurity(settings: KafkaSecuritySettings): KafkaSecurity {
  const problems: string[] = [];
  const security: KafkaSecurity = {};
  if (settings.KAFKA_TLS) {
    security.tls = {};
    if (settings.KAFKA_TLS_CA_FILE) {
      try {
        security.tls.ca = [...rootCertificates, readFileSync(settings.KAFKA_TLS_CA_FILE, "utf8")];
      } catch (error) {
        problems.push(
          `KAFKA_TLS_CA_FILE: cannot be read (${(error as NodeJS.ErrnoException).code ?? "error"})`,
        );
      }
    }
  } else if (settings.KAFKA_TLS_CA_FILE) {
    problems.push("KAFKA_TLS_CA_FILE: set, but KAFKA_TLS is not true");
  }
  const mechanism = settings.KAFKA_SASL_MECHANISM;
  const { KAFKA_SASL_USERNAME: username, KAFKA_SASL_PASSWORD: password } = settings;
  if (mechanism) {
    if (!username) problems.push(`KAFKA_SASL_USERNAME: required with KAFKA_SASL_MECHANISM=${mechanism}`);
    if (!password) problems.push(`KAFKA_SASL_PASSWORD: required with KAFKA_SASL_MECHANISM=${mechanism}`);
    if (mechanism === "plain" && !settings.KAFKA_TLS && settings.NODE_ENV === "production") {
      problems.push(
        "KAFKA_SASL_MECHANISM: plain sends the password in clear; set KAFKA_TLS=true in production",
      );
    }
    if (username && password) {
      const upper = mechanism.toUpperCase() as "PLAIN" | "SCRAM-SHA-256" | "SCRAM-SHA-512";
      security.sasl = { mechanism: upper, username, password };
    }
  } else if (username || password) {
    problems.push("KAFKA_SASL_MECHANISM: required with KAFKA_SASL_USERNAME/KAFKA_SASL_PASSWORD");
  }
  if (problems.length > 0) {
    throw new ConfigError(`Invalid configuration:\n${problems.map((p) => `  ${p}`).join("\n")}`);
  }
  return security;
}
