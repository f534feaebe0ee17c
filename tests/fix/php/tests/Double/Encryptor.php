<?php
declare(strict_types=1);

namespace Mageguard\ConnectorTest\Double;

use Magento\Framework\Encryption\EncryptorInterface;

/** Reversible, and like Magento's it decrypts what it did not encrypt to ''. */
final class Encryptor implements EncryptorInterface
{
    public function encrypt($data)
    {
        return 'enc:' . base64_encode((string)$data);
    }

    public function decrypt($data)
    {
        return str_starts_with((string)$data, 'enc:') ? base64_decode(substr($data, 4)) : '';
    }
}
