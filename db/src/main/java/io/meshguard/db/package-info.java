/** Schema, migrations, DataSource and local PostgreSQL. */
package io.meshguard.db;
