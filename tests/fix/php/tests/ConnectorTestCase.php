<?php
declare(strict_types=1);

namespace Mageguard\ConnectorTest;

use Mageguard\Connector\Model\Gateway;
use Mageguard\ConnectorTest\Double\Encryptor;
use Mageguard\ConnectorTest\Double\ScopeConfig;
use Mageguard\ConnectorTest\Double\StoreManager;
use PHPUnit\Framework\TestCase;

/**
 * A store with two websites, `base` (store `default`) and `b2b` (store `b2b_en`), configured by
 * the module's rendered etc/config.xml (tests/fix/test_connector.py renders it with gateway
 * http://127.0.0.1:8700 and surfaces Lumen\ -> content_generation, Lumen\SmartSearch\ ->
 * search_recommendations) plus per-website gateway keys.
 */
abstract class ConnectorTestCase extends TestCase
{
    protected const GATEWAY = 'http://127.0.0.1:8700';
    protected const PROVIDER_KEY = 'sk-provider-SECRET';

    protected ScopeConfig $config;
    protected StoreManager $stores;
    protected Gateway $gateway;

    protected function setUp(): void
    {
        $this->config = ScopeConfig::fromConfigXml(getenv('MAGEGUARD_CONNECTOR_DIR') . '/etc/config.xml');
        $this->stores = new StoreManager('base', 'default');
        $this->gateway = new Gateway($this->config, new Encryptor(), $this->stores);
        $this->setKey('default', 'gw-base-default', 'base');
        $this->setKey('search_recommendations', 'gw-base-search', 'base');
        $this->setKey('default', 'gw-b2b-default', 'b2b');
    }

    protected function setKey(string $surface, ?string $key, string $website): void
    {
        $stored = $key === null ? null : (new Encryptor())->encrypt($key);
        $this->config->set('mageguard_connector/keys/' . $surface, $stored, $website);
    }

    protected function disable(): void
    {
        $this->config->set('mageguard_connector/general/enabled', '0');
    }

    /** @return array<string, string> */
    protected static function gatewayHeaders(
        string $key = 'gw-base-default',
        string $surface = 'default',
        string $tenant = 'base',
        string $store = 'default'
    ): array {
        return [
            'Authorization' => 'Bearer ' . $key,
            'X-Mageguard-Tenant' => $tenant,
            'X-Mageguard-Store' => $store,
            'X-Mageguard-Surface' => $surface,
        ];
    }
}
