-- TLS to an upstream (a service outside the mesh, a partner API): {sni, subject_alt_names, ca_file}; null is
-- plaintext. Replaces V2's `tls`/`tls_sni` placeholders, which nothing ever read or wrote.
alter table upstream drop column tls;
alter table upstream drop column tls_sni;
alter table upstream add column tls jsonb;
