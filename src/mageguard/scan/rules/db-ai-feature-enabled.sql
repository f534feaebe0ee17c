-- Fixture for db-ai-feature-enabled: core_config_data rows of a Magento database dump.
INSERT INTO `store_website` (`website_id`, `code`, `name`) VALUES (0,'admin','Admin'),(1,'base','Main Website'),(2,'b2b','Trade');
INSERT INTO `core_config_data` (`config_id`, `scope`, `scope_id`, `path`, `value`) VALUES (1,'default',0,'fixture_ai/openai/endpoint','https://api.openai.com/v1');
-- ruleid: db-ai-feature-enabled
INSERT INTO `core_config_data` (`config_id`, `scope`, `scope_id`, `path`, `value`) VALUES (2,'default',0,'fixture_ai/general/enabled','1');
-- ok: db-ai-feature-enabled
INSERT INTO `core_config_data` (`config_id`, `scope`, `scope_id`, `path`, `value`) VALUES (3,'websites',2,'fixture_ai/general/enabled','0');
-- ok: db-ai-feature-enabled
INSERT INTO `core_config_data` (`config_id`, `scope`, `scope_id`, `path`, `value`) VALUES (4,'default',0,'carriers/flatrate/active','1');
