-- Fixture for db-ai-endpoint: core_config_data rows of a Magento database dump.
INSERT INTO `store_website` (`website_id`, `code`, `name`) VALUES (0,'admin','Admin'),(1,'base','Main Website'),(2,'b2b','Trade');
INSERT INTO `store` (`store_id`, `code`, `website_id`, `group_id`, `name`) VALUES (0,'admin',0,0,'Admin'),(1,'default',1,1,'English'),(2,'b2b_en',2,2,'Trade');
-- ruleid: db-ai-endpoint
INSERT INTO `core_config_data` (`config_id`, `scope`, `scope_id`, `path`, `value`) VALUES (1,'default',0,'fixture_ai/openai/endpoint','https://api.openai.com/v1');
-- ruleid: db-ai-endpoint
INSERT INTO `core_config_data` (`config_id`, `scope`, `scope_id`, `path`, `value`) VALUES (2,'websites',2,'fixture_ai/openai/endpoint','https://fixture.openai.azure.com/openai/deployments/gpt-4o');
-- ok: db-ai-endpoint
INSERT INTO `core_config_data` (`config_id`, `scope`, `scope_id`, `path`, `value`) VALUES (3,'stores',1,'fixture_ai/openai/endpoint','http://mageguard-gateway.internal:8080/v1');
-- ok: db-ai-endpoint
INSERT INTO `core_config_data` (`config_id`, `scope`, `scope_id`, `path`, `value`) VALUES (4,'default',0,'web/secure/base_url','https://shop.example.com/');
