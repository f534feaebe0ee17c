-- Fixture for db-ai-key-plaintext: core_config_data rows of a Magento database dump.
INSERT INTO `store_website` (`website_id`, `code`, `name`) VALUES (0,'admin','Admin'),(1,'base','Main Website');
INSERT INTO `store` (`store_id`, `code`, `website_id`, `group_id`, `name`) VALUES (0,'admin',0,0,'Admin'),(1,'default',1,1,'English');
INSERT INTO `core_config_data` (`config_id`, `scope`, `scope_id`, `path`, `value`) VALUES (1,'default',0,'fixture_ai/openai/endpoint','https://api.openai.com/v1');
-- ruleid: db-ai-key-plaintext
INSERT INTO `core_config_data` (`config_id`, `scope`, `scope_id`, `path`, `value`) VALUES (2,'stores',1,'fixture_ai/openai/api_key','sk-proj-Fake0EXAMPLE1db2NOT3real4Zq8Lm2Xc7Vb9Nk1Hj5Gf3Ds');
-- ok: db-ai-key-plaintext
INSERT INTO `core_config_data` (`config_id`, `scope`, `scope_id`, `path`, `value`) VALUES (3,'default',0,'fixture_ai/openai/api_key','0:3:RkFLRWVuY3J5cHRlZGtleWZvcmZpeHR1cmVzMDEyMzQ1');
-- ok: db-ai-key-plaintext
INSERT INTO `core_config_data` (`config_id`, `scope`, `scope_id`, `path`, `value`) VALUES (4,'default',0,'fixture_maps/google/api_key','AIzaSyFAKE0EXAMPLE1maps2NOT3real4Zq8Lm');
