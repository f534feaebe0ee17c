<?php
declare(strict_types=1);

namespace GuzzleHttp;

/** What Magento generates for GuzzleHttp\ClientFactory: $data holds constructor arguments. */
class ClientFactory
{
    public function create(array $data = [])
    {
        return new Client($data['config'] ?? []);
    }
}
