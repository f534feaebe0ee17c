<?php
declare(strict_types=1);

namespace Fixture\PhpSharedVectorIndex\Cron;

use GuzzleHttp\Client;
use Magento\Catalog\Model\ResourceModel\Product\CollectionFactory;
use Magento\Store\Model\StoreManagerInterface;

class IndexEmbeddings
{
    private const PINECONE = 'https://catalog-abc123.svc.us-east1-gcp.pinecone.io';

    public function __construct(
        private readonly Client $client,
        private readonly StoreManagerInterface $storeManager,
        private readonly CollectionFactory $collectionFactory
    ) {
    }

    public function shared(): void
    {
        foreach ($this->storeManager->getStores() as $store) {
            $vectors = [];
            foreach ($this->collectionFactory->create()->setStoreId($store->getId()) as $product) {
                $vectors[] = ['id' => $product->getSku(), 'values' => [0.1, 0.2], 'metadata' => ['name' => $product->getName()]];
            }
            // ruleid: php-shared-vector-index
            $this->client->post(self::PINECONE . '/vectors/upsert', ['json' => ['vectors' => $vectors, 'namespace' => 'catalog']]);
        }
    }

    public function perStore(): void
    {
        foreach ($this->storeManager->getStores() as $store) {
            $vectors = [];
            foreach ($this->collectionFactory->create()->setStoreId($store->getId()) as $product) {
                $vectors[] = ['id' => $product->getSku(), 'values' => [0.1, 0.2]];
            }
            // ok: php-shared-vector-index
            $this->client->post(self::PINECONE . '/vectors/upsert', ['json' => ['vectors' => $vectors, 'namespace' => 'catalog_' . $store->getCode()]]);
        }
    }
}
