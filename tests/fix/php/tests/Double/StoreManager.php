<?php
declare(strict_types=1);

namespace Mageguard\ConnectorTest\Double;

use Magento\Store\Model\StoreManagerInterface;

/** The current website and store, switched by a test as a request to another store would. */
final class StoreManager implements StoreManagerInterface
{
    public function __construct(private string $website, private string $store)
    {
    }

    public function switchTo(string $website, string $store): void
    {
        [$this->website, $this->store] = [$website, $store];
    }

    public function getStore($storeId = null)
    {
        return new Scope($this->store);
    }

    public function getWebsite($websiteId = null)
    {
        return new Scope($this->website);
    }
}
