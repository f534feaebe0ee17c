<?php
declare(strict_types=1);

namespace Magento\Store\Model;

interface StoreManagerInterface
{
    /** @return \Magento\Store\Api\Data\StoreInterface */
    public function getStore($storeId = null);

    /** @return \Magento\Store\Api\Data\WebsiteInterface */
    public function getWebsite($websiteId = null);
}
