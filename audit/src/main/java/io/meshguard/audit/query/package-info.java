/** The read side of the audit log: filtered queries, monthly export, and their output formats. */
package io.meshguard.audit.query;
