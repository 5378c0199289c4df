import QRCode from "qrcode";

/**
 * A PNG data URL of `text` as a QR code, for the `qrCode` field of `/2fa/enable`. Error correction "M" and the
 * standard 4-module quiet zone keep the symbol small (an otpauth URL fits version 6–8) while phone cameras
 * still read it off a screen; 6 px per module gives a ~300 px image that needs no scaling to scan.
 */
export function qrCodeDataUrl(text: string): Promise<string> {
  return QRCode.toDataURL(text, { type: "image/png", errorCorrectionLevel: "M", margin: 4, scale: 6 });
}
