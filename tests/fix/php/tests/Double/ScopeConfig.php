<?php
declare(strict_types=1);

namespace Mageguard\ConnectorTest\Double;

use Magento\Framework\App\Config\ScopeConfigInterface;
use Magento\Store\Model\ScopeInterface;

/**
 * Magento's configuration as the connector sees it: the defaults of the rendered
 * etc/config.xml, overridden per website the way core_config_data rows would.
 */
final class ScopeConfig implements ScopeConfigInterface
{
    /** @var array<string, string|null> "<website or empty>|<path>" => value */
    private array $values = [];

    public static function fromConfigXml(string $file): self
    {
        $config = new self();
        $xml = simplexml_load_file($file);
        foreach ($xml->default->children() as $section) {
            foreach ($section->children() as $group) {
                foreach ($group->children() as $field) {
                    $config->set(implode('/', [$section->getName(), $group->getName(), $field->getName()]), (string)$field);
                }
            }
        }
        return $config;
    }

    public function set(string $path, ?string $value, string $website = ''): void
    {
        $this->values[$website . '|' . $path] = $value;
    }

    public function getValue($path, $scopeType = ScopeConfigInterface::SCOPE_TYPE_DEFAULT, $scopeCode = null)
    {
        $websiteScope = in_array($scopeType, [ScopeInterface::SCOPE_WEBSITES, ScopeInterface::SCOPE_WEBSITE], true);
        $key = $scopeCode . '|' . $path;
        if ($websiteScope && array_key_exists($key, $this->values)) {
            return $this->values[$key];
        }
        return $this->values['|' . $path] ?? null;
    }

    public function isSetFlag($path, $scopeType = ScopeConfigInterface::SCOPE_TYPE_DEFAULT, $scopeCode = null)
    {
        return (bool)$this->getValue($path, $scopeType, $scopeCode);
    }
}
