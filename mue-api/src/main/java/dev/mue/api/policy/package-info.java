/**
 * Exit policies: the thresholds, decoder threshold schedules, key/value policies and encoder modes that decide where MuE stops.
 */
package dev.mue.api.policy;
