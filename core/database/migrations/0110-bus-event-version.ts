import { DataTypes } from 'sequelize';
import type { Migration } from '../database.js';

/**
 * Issue 10 (each domain event has a version): bus_events.version, the version of the payload's
 * schema the publisher wrote (core/events/domain-events.ts, domainEventSpecs). Rows written before
 * it existed are version 1, which is what they are. A consumer refuses a version it does not know.
 */
export const up: Migration['up'] = async ({ queryInterface: q }) => {
  await q.addColumn('bus_events', 'version', { type: DataTypes.INTEGER, allowNull: false, defaultValue: 1 });
};

export const down: Migration['down'] = async ({ queryInterface: q }) => {
  await q.removeColumn('bus_events', 'version');
};
