-- The default tenant's display name is what the console's tenant picker, the portal and `meshguard tenant list` show;
-- the baseline named it after how it came to be. Only the shipped name is replaced: an operator's own name stays.
update tenant set display_name = 'Default tenant' where id = 'default' and display_name = 'Rows that existed before tenants';
