/** Four eyes on policy files: which bundle of a policy a server may enforce, as approved in PostgreSQL. */
package io.meshguard.audit.approval;
