import type { Migration } from '../database.js';

/**
 * The embedded event bus (core/event-bus/db-event-bus.ts): the event log, the consumer groups,
 * one pending row per (group, event) until the group acknowledges it, and the dead letters.
 * Raw DDL per dialect: SQLite needs INTEGER PRIMARY KEY for its rowid autoincrement.
 */
const sqlite = [
  `CREATE TABLE bus_events (id INTEGER PRIMARY KEY AUTOINCREMENT, name VARCHAR(100) NOT NULL, msg_key VARCHAR(191),
     payload TEXT NOT NULL, created_at BIGINT NOT NULL)`,
  `CREATE TABLE bus_groups (name VARCHAR(100) PRIMARY KEY, created_at BIGINT NOT NULL)`,
  `CREATE TABLE bus_pending (group_name VARCHAR(100) NOT NULL, event_id INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
     visible_at BIGINT NOT NULL, owner VARCHAR(100), lease VARCHAR(40), last_error TEXT, PRIMARY KEY (group_name, event_id))`,
  `CREATE INDEX bus_pending_due ON bus_pending (group_name, visible_at, event_id)`,
  `CREATE INDEX bus_pending_lease ON bus_pending (lease)`,
  `CREATE TABLE bus_dead (id INTEGER PRIMARY KEY AUTOINCREMENT, group_name VARCHAR(100) NOT NULL, event_id INTEGER NOT NULL,
     name VARCHAR(100) NOT NULL, msg_key VARCHAR(191), payload TEXT NOT NULL, attempts INTEGER NOT NULL, last_error TEXT,
     dead_at BIGINT NOT NULL, UNIQUE (group_name, event_id))`,
];

const mysql = [
  `CREATE TABLE bus_events (id BIGINT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100) NOT NULL, msg_key VARCHAR(191) NULL,
     payload MEDIUMTEXT NOT NULL, created_at BIGINT NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
  `CREATE TABLE bus_groups (name VARCHAR(100) PRIMARY KEY, created_at BIGINT NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
  `CREATE TABLE bus_pending (group_name VARCHAR(100) NOT NULL, event_id BIGINT NOT NULL, attempts INT NOT NULL DEFAULT 0,
     visible_at BIGINT NOT NULL, owner VARCHAR(100) NULL, lease VARCHAR(40) NULL, last_error TEXT NULL,
     PRIMARY KEY (group_name, event_id), KEY bus_pending_due (group_name, visible_at, event_id), KEY bus_pending_lease (lease))
     ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
  `CREATE TABLE bus_dead (id BIGINT AUTO_INCREMENT PRIMARY KEY, group_name VARCHAR(100) NOT NULL, event_id BIGINT NOT NULL,
     name VARCHAR(100) NOT NULL, msg_key VARCHAR(191) NULL, payload MEDIUMTEXT NOT NULL, attempts INT NOT NULL,
     last_error TEXT NULL, dead_at BIGINT NOT NULL, UNIQUE KEY bus_dead_event (group_name, event_id))
     ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
];

const migration: Migration = {
  async up({ queryInterface, dialect }) {
    for (const sql of dialect === 'mysql' ? mysql : sqlite) await queryInterface.sequelize.query(sql);
  },
  async down({ queryInterface }) {
    for (const table of ['bus_dead', 'bus_pending', 'bus_groups', 'bus_events']) await queryInterface.dropTable(table);
  },
};
export const { up, down } = migration;
