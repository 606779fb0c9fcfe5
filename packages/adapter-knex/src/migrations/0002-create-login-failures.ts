import type { Knex } from 'knex';

/** Failed-login windows shared by every server instance on the database (see KnexLoginThrottle). */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('login_failures', (table) => {
    table.text('key').primary();
    table.integer('count').notNullable();
    table.bigInteger('window_started_at').notNullable();
    // Lets the periodic prune of ended windows use a range scan.
    table.index(['window_started_at'], 'login_failures_window_started_at_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('login_failures');
}
