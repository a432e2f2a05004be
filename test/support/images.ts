import sharp from 'sharp';

/** A holiday photo: a JPEG whose EXIF names the camera, the photographer and where it was taken. */
export async function jpegWithGps(): Promise<Buffer> {
  return sharp({ create: { width: 900, height: 600, channels: 3, background: '#3a7bd5' } })
    .jpeg()
    .withExif({ IFD0: { Make: 'TestCam', Artist: 'Jana Nováková' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '50/1 5/1 0/1', GPSLongitudeRef: 'E', GPSLongitude: '14/1 25/1 0/1' } })
    .toBuffer();
}
