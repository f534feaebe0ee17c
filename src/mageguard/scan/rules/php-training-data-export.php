<?php
declare(strict_types=1);

namespace Fixture\PhpTrainingDataExport\Cron;

use GuzzleHttp\Client;
use Magento\Catalog\Model\ResourceModel\Product\CollectionFactory as ProductCollectionFactory;
use Magento\Sales\Model\ResourceModel\Order\CollectionFactory as OrderCollectionFactory;

/**
 * Nightly export of sales and margins for the demand-forecasting model (DataRobot).
 */
class ExportTrainingSet
{
    public function __construct(
        private readonly OrderCollectionFactory $orderCollectionFactory,
        private readonly ProductCollectionFactory $productCollectionFactory,
        private readonly Client $client
    ) {
    }

    public function execute(): void
    {
        $handle = fopen('var/export/orders.csv', 'w');
        foreach ($this->orderCollectionFactory->create() as $order) {
            // ruleid: php-training-data-export
            fputcsv($handle, [$order->getIncrementId(), $order->getCustomerEmail(), $order->getGrandTotal()]);
        }
        fclose($handle);
        $products = $this->productCollectionFactory->create()->addAttributeToSelect(['price', 'cost']);
        // ruleid: php-training-data-export
        $this->client->post('https://app.datarobot.com/api/v2/datasets/fromFile/', ['multipart' => [['name' => 'file', 'contents' => json_encode($products->getData())]]]);
        // ok: php-training-data-export
        fwrite($handle, 'export finished at ' . date('c'));
    }
}
